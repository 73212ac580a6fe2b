//! Parser for go.mod and go.sum (not yet implemented).

use vouch_inventory::Inventory;

use crate::{Input, ParseError, ParseErrorKind};

/// Parses go.mod (with go.sum beside it).
pub(crate) fn parse_mod(input: &Input<'_>) -> Result<Inventory, ParseError> {
    Err(ParseError::new(
        input.file,
        ParseErrorKind::Io("this format is not implemented yet".to_owned()),
    ))
}

/// Parses go.sum alone.
pub(crate) fn parse_sum(input: &Input<'_>) -> Result<Inventory, ParseError> {
    parse_mod(input)
}
