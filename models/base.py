from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """Base of every record: immutable, and unknown keys are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")
