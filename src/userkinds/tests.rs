use super::*;

#[test]
fn versions_follow_kro() {
    for ok in ["v1", "v2", "v1alpha1", "v10beta3"] {
        assert!(valid_version(ok), "{ok}");
    }
    for bad in ["1", "v", "v0", "v1gamma1", "v1alpha", "V1", "v1.2"] {
        assert!(!valid_version(bad), "{bad}");
    }
}
