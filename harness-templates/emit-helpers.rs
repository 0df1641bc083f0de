/// One of `edges` half of the time, any value of the type the other half.
#[allow(dead_code)]
fn edges_or_any<T>(edges: Vec<T>) -> BoxedStrategy<T>
where
    T: Arbitrary + Clone + std::fmt::Debug + 'static,
{
    prop_oneof![prop::sample::select(edges), any::<T>()].boxed()
}

/// One of `edges` half of the time, any string the other half.
#[allow(dead_code)]
fn strings(edges: &[&str]) -> BoxedStrategy<String> {
    edges_or_any(edges.iter().map(|s| s.to_string()).collect())
}
