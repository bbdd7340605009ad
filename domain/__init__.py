"""Pure business logic: standard library, pydantic and dataclasses only. Time and ids come in as arguments."""
