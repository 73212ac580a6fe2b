//! Parse errors that name the file, the place and what was wrong.

use std::fmt;

/// A lockfile could not be read. Displays as `FILE:LINE:COLUMN: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file, as the caller named it.
    pub file: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based column, where known.
    pub column: Option<usize>,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

/// What was wrong with a lockfile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The file name matches no known lockfile format.
    #[error("not a lockfile vouch knows; supported files: {supported}")]
    UnknownFormat {
        /// The list of supported names.
        supported: String,
    },
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Io(String),
    /// The file is larger than vouch reads.
    #[error("file is {found} bytes, over the limit of {limit}")]
    TooLarge {
        /// The limit.
        limit: u64,
        /// The size found.
        found: u64,
    },
    /// The bytes are not UTF-8.
    #[error("not valid UTF-8")]
    NotUtf8,
    /// The underlying syntax (JSON, TOML, YAML, ...) is broken.
    #[error("invalid {syntax}: {message}")]
    Syntax {
        /// `JSON`, `TOML`, `YAML`, ...
        syntax: &'static str,
        /// The syntax parser's message.
        message: String,
    },
    /// A required field is absent.
    #[error("missing `{field}` in {context}")]
    MissingField {
        /// The field.
        field: String,
        /// Where it was expected.
        context: String,
    },
    /// A field has the wrong shape.
    #[error("`{field}`: expected {expected}, found {found}")]
    InvalidField {
        /// The field.
        field: String,
        /// What was expected.
        expected: String,
        /// What was found (a short excerpt).
        found: String,
    },
    /// The format version is not one vouch reads.
    #[error("unsupported {what} `{found}`; vouch reads {supported}")]
    UnsupportedVersion {
        /// What is versioned (`lockfileVersion`, `version`).
        what: String,
        /// The version found.
        found: String,
        /// The versions vouch reads.
        supported: String,
    },
    /// More entries than vouch accepts in one file.
    #[error("more than {limit} {what}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
}

impl ParseError {
    /// An error with no position yet.
    pub fn new(file: &str, kind: ParseErrorKind) -> Self {
        ParseError {
            file: file.to_owned(),
            line: None,
            column: None,
            kind,
        }
    }

    /// Adds a 1-based line and column.
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Adds a 1-based line.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// Adds a 1-based line when one is known (evidence lines are `u32`).
    pub fn at_line_opt(self, line: Option<u32>) -> Self {
        match line {
            Some(l) => self.at_line(l as usize),
            None => self,
        }
    }

    /// A syntax error with an optional position.
    pub fn syntax(
        file: &str,
        syntax: &'static str,
        message: impl Into<String>,
        pos: Option<(usize, usize)>,
    ) -> Self {
        let e = ParseError::new(
            file,
            ParseErrorKind::Syntax {
                syntax,
                message: message.into(),
            },
        );
        match pos {
            Some((l, c)) => e.at(l, c),
            None => e,
        }
    }

    /// A missing field.
    pub fn missing(file: &str, field: impl Into<String>, context: impl Into<String>) -> Self {
        ParseError::new(
            file,
            ParseErrorKind::MissingField {
                field: field.into(),
                context: context.into(),
            },
        )
    }

    /// A field with the wrong shape.
    pub fn invalid(
        file: &str,
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        let mut found: String = found.into();
        if found.len() > 80 {
            let cut = (0..=80)
                .rev()
                .find(|i| found.is_char_boundary(*i))
                .unwrap_or(0);
            found.truncate(cut);
            found.push('…');
        }
        ParseError::new(
            file,
            ParseErrorKind::InvalidField {
                field: field.into(),
                expected: expected.into(),
                found,
            },
        )
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for ParseError {}
