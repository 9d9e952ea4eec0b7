"""hipaa-assistant: answers questions about HIPAA and AI from an organisation's own documents."""

__version__ = "0.1.0"
