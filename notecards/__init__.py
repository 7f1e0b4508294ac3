"""notecards: Obsidian flashcards to Anki, and runnable demos of the formulas they teach."""

__version__ = "0.1.0"
