"""survey-sim: simulate how populations answer survey questions with language models."""

__version__ = "0.1.0"
