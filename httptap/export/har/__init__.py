"""HAR 1.2 export (``--save out.har``) and import (``--open file.har``).

``entry`` builds one exchange's entry, ``writer`` keeps a file valid after every add,
``loader`` reads files back; ``fields`` holds what the builder and the loader share.
"""

from httptap.export.har.entry import MAX_DECODED, exchange_to_har_entry
from httptap.export.har.fields import CREATOR, HAR_VERSION
from httptap.export.har.loader import har_entry_to_exchange, load_har
from httptap.export.har.writer import HarWriter

__all__ = [
    "CREATOR",
    "HAR_VERSION",
    "MAX_DECODED",
    "HarWriter",
    "exchange_to_har_entry",
    "har_entry_to_exchange",
    "load_har",
]
