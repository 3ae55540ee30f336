"""SignLLaVA: American Sign Language video to English with a frozen Llama and per-stream projectors."""

__version__ = "0.1.0"
