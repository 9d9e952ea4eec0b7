"""The chat UI (Chainlit) and the JSON API, served together by `hipaa-assistant serve`."""
