"""The terminal UI (Textual): a network tab in the terminal; ``httptap.ui.app.run_tui``."""
