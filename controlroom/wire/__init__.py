"""The wire format: what processes say to each other over the broker, and how it is checked.

- `fields`: what a valid field is (the types the schema is written in, and the checks the
  schema library cannot express);
- `frames`: readings in columns, and the layouts a decoder has checked;
- `envelopes`: every other message;
- `codec`: a `Decoder` per consumer, one `encode` for all.

The schema is written as msgspec structs, which validate and decode JSON in C; see
docs/architecture.md for why msgspec rather than hand-written validators. This package
imports nothing itself: the plant's types (`controlroom.plant`) are written in `fields`'
vocabulary, and the codec is written in theirs.
"""
