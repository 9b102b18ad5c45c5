//! `Error`: local faults of the bus itself (connecting, Redis errors,
//! timeouts, refused configuration), as opposed to a [`Status`] that fails
//! one call.
//!
//! [`Status`]: crate::Status

use std::fmt;

/// A fault of the bus: it could not connect, Redis refused a command, a
/// configuration is invalid... Use the predicates (`is_timeout()`, ...) to
/// react to a kind of fault; the message says what happened.
pub struct Error {
    /// The kind of fault.
    kind: ErrorKind,
    /// What happened, naming the thing involved (URL, key, service...).
    message: String,
    /// The underlying error, when there is one.
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// The kinds of [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Invalid input from the program: a bad URL, bus name, option value.
    Config,
    /// Redis could not be reached, or the connection was lost.
    Connection,
    /// An operation did not finish in time.
    Timeout,
    /// Redis answered with an error (including ACL refusals).
    Redis,
    /// Redis refused the command for lack of permission (ACL).
    PermissionDenied,
    /// The service's schema or version conflicts with what the bus holds.
    Incompatible,
    /// A handler failed while the server ran in debug mode.
    Handler,
    /// What was asked for (a service, a method) is not on the bus.
    NotFound,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of fault.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether an operation did not finish in time.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    /// Whether Redis could not be reached or the connection was lost.
    pub fn is_connection(&self) -> bool {
        self.kind == ErrorKind::Connection
    }

    /// Whether the program passed invalid configuration.
    pub fn is_config(&self) -> bool {
        self.kind == ErrorKind::Config
    }

    /// Whether Redis refused a command for lack of permission.
    pub fn is_permission_denied(&self) -> bool {
        self.kind == ErrorKind::PermissionDenied
    }

    /// Whether what was asked for (a service, a method) is not on the bus.
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// Whether a schema or version conflicts with what the bus holds.
    pub fn is_incompatible(&self) -> bool {
        self.kind == ErrorKind::Incompatible
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}
