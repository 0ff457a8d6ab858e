"""The SMS conversation as the shop runs it: proposals go out, replies come back.

``texts`` renders the shop's templates for a customer; ``outgoing`` makes proposals and
queues prompts, heads-ups, reminders and follow-ups (``rules`` holds its checks: quiet
hours, holds, the weekly cap, loyalty; ``decisions`` its results, which ``replenish plan``
prints); ``inbound`` applies a customer's reply (through ``replenish.core.conversation``)
and queues the answer. Everything is
written through the outbox in the caller's transaction.
"""
