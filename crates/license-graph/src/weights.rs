//! The graph's one cost model. Its weights are written into the SDL as `@cost` and `@listSize`
//! (the IBM GraphQL cost directives, as Apollo Federation 2.9 defines them), which is what a
//! composing gateway's demand control (Apollo Router, Cosmo, Hive) reads, and what this
//! gateway's own `limits.max_complexity` reads back from the same SDL (`graphql_http`'s cost
//! estimate). Every weight and list size lives here; the directives on the fields
//! (`directives::cost`, `directives::list_size`) take their arguments from these constants.
//!
//! The weights are the spec's defaults, written out: an object costs 1 (one resolver, one
//! loader lookup), a scalar or enum 0. A list costs its items times that: a paginated list as
//! many as its `first`/`last` asks (else its default page), an unpaginated one an estimated
//! [`LIST_ESTIMATE`]. A connection's `first` sizes its `edges` and `nodes`.

use crate::list_sizes::{DEFAULT_PAGE_SIZE, DEFAULT_TRIALS_PER_GROUP};

/// What one object costs: `@cost(weight:)` on every list field (the spec's default, written
/// out so that a gateway configured with other defaults still counts as this one does).
pub const OBJECT_WEIGHT: i32 = 1;

/// What one scalar or enum item of a list costs: `@cost(weight:)` on lists of scalars (the
/// spec's default for leaves, written out like [`OBJECT_WEIGHT`]).
pub const LEAF_WEIGHT: i32 = 0;

/// How many items an unpaginated list (a customer's licenses, a license's hostnames, ...) is
/// assumed to hold.
pub const LIST_ESTIMATE: i32 = 10;

/// How many items a list field returns, as `@listSize` says it.
#[derive(Clone, Copy, Debug)]
pub struct Sizing {
    /// The size when the slicing argument is not given (its default), or the estimate of an
    /// unpaginated list.
    pub assumed: i32,
    /// The argument whose value is the size (`first`, `last`), optional for callers.
    pub slicing: Option<&'static str>,
    /// The child lists the size applies to instead of the field itself (a connection's).
    pub sized: &'static [&'static str],
}

/// A Relay connection (`customers`, `licenses`, `auditEvents`): `first` items (default
/// [`DEFAULT_PAGE_SIZE`]) in its `edges` and its `nodes`.
pub const CONNECTION: Sizing = Sizing {
    assumed: DEFAULT_PAGE_SIZE as i32,
    slicing: Some("first"),
    sized: &["edges", "nodes"],
};

/// `License.auditEvents(first:)`: at most `first` events (default [`DEFAULT_PAGE_SIZE`]).
pub const FIRST: Sizing = Sizing {
    assumed: DEFAULT_PAGE_SIZE as i32,
    slicing: Some("first"),
    sized: &[],
};

/// `TrialGroup.trials(first:)`: at most `first` trials (default
/// [`DEFAULT_TRIALS_PER_GROUP`]).
pub const TRIALS: Sizing = Sizing {
    assumed: DEFAULT_TRIALS_PER_GROUP as i32,
    slicing: Some("first"),
    sized: &[],
};

/// `Hostname.usagePings(last:)`: the last `last` pings (the default both subgraphs share).
pub const HISTORY: Sizing = Sizing {
    assumed: entity::usage_ping::history::DEFAULT as i32,
    slicing: Some("last"),
    sized: &[],
};

/// An unpaginated list: [`LIST_ESTIMATE`] items.
pub const ESTIMATE: Sizing = Sizing {
    assumed: LIST_ESTIMATE,
    slicing: None,
    sized: &[],
};

impl Sizing {
    /// `assumedSize`.
    pub fn assumed_size(&self) -> Option<i32> {
        Some(self.assumed)
    }

    /// `slicingArguments`.
    pub fn slicing_arguments(&self) -> Option<Vec<String>> {
        self.slicing.map(|argument| vec![argument.to_owned()])
    }

    /// `sizedFields`.
    pub fn sized_fields(&self) -> Option<Vec<String>> {
        (!self.sized.is_empty()).then(|| self.sized.iter().map(|f| (*f).to_owned()).collect())
    }

    /// `requireOneSlicingArgument`: false where there is one, since callers may leave it out
    /// (the spec's default, true, would have gateways refuse such queries).
    pub fn require_one_slicing_argument(&self) -> Option<bool> {
        self.slicing.map(|_| false)
    }
}
