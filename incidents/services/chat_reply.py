"""The answer to a `/morgue` command, shared by the command modules (incidents.services.chat, chat_oncall)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ChatReply:
    """What the command answers: `public` replies are shown to the channel, the rest to the person only."""

    text: str
    public: bool = False
