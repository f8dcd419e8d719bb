//! ImageNet class names (line i = class i), embedded.

const TEXT: &str = include_str!("../imagenet_classes.txt");

/// The name of class `i`, or `class <i>` outside the list.
pub fn name(i: usize) -> String {
    TEXT.lines()
        .nth(i)
        .map(str::to_string)
        .unwrap_or_else(|| format!("class {i}"))
}

/// Indices of the `n` largest values, largest first (ties: lower index first).
pub fn top_n(p: &[f32], n: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
    idx.truncate(n);
    idx
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousand_names() {
        assert_eq!(super::TEXT.lines().count(), 1000);
        assert!(super::name(967).contains("espresso"));
        assert_eq!(super::top_n(&[0.1, 0.5, 0.2, 0.5], 3), vec![1, 3, 2]);
    }
}
