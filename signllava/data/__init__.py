"""Datasets: How2Sign metadata, sentence samples with context and QA tasks, and the training Dataset."""
