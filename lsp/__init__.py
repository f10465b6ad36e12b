"""httptap's language server (``httptap-lsp``) and its editor clients (lsp/nvim).

The wire protocol is documented in lsp/PROTOCOL.md; ``httptap.lsp.server.main`` is the entry
point.
"""
