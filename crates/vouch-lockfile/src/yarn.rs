//! Parser for this format (not yet implemented).

use vouch_inventory::Inventory;

use crate::{Input, ParseError, ParseErrorKind};

/// Parses the lockfile.
pub(crate) fn parse(input: &Input<'_>) -> Result<Inventory, ParseError> {
    Err(ParseError::new(
        input.file,
        ParseErrorKind::Io("this format is not implemented yet".to_owned()),
    ))
}
