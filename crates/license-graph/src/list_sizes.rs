//! How long the graph's lists are: the page sizes the resolvers apply and the cost model
//! ([`crate::weights`]) assumes, in one place so the two cannot drift apart.

/// Default page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Default number of trials a group lists.
pub const DEFAULT_TRIALS_PER_GROUP: u64 = 20;
/// The most trials a group lists (the whole list: the CSV export, `/export/trials.csv`).
pub const MAX_TRIALS_PER_GROUP: u64 = 100;
