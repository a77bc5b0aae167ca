//! How the `items` capability pages, wherever the items come from (the host's store, the
//! documents handed to `simian audit`, the SDK's test host): at most [`MAX_PAGE`] items per
//! call, after skipping `offset` matching ones, in a stable order.

/// The most items one `items.list` call returns, whatever `limit` asks for.
pub const MAX_PAGE: u32 = 1000;

/// The number of items a call asking for `limit` gets at most.
pub fn page_limit(limit: u32) -> u32 {
    limit.min(MAX_PAGE)
}

/// One page of `items` (already filtered and ordered): skip `offset`, take up to
/// [`page_limit`]`(limit)`.
pub fn page<T>(items: impl IntoIterator<Item = T>, offset: u32, limit: u32) -> Vec<T> {
    items
        .into_iter()
        .skip(offset as usize)
        .take(page_limit(limit) as usize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_capped() {
        assert_eq!(page(0..5000u32, 0, 5000).len(), 1000);
        assert_eq!(
            page(0..5000u32, 4500, 1000),
            (4500..5000).collect::<Vec<_>>()
        );
        assert_eq!(page(0..10u32, 3, 2), [3, 4]);
        assert!(page(0..10u32, 20, 5).is_empty());
    }
}
