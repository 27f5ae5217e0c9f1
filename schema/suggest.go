package schema

// DidYouMean is " (did you mean "x"?)" for the candidate nearest to s by
// edit distance, or "" when none is a plausible typo: the one rule every
// command's hints follow (the loader's, explain's, revisions').
func DidYouMean(s string, candidates []string) string { return didYouMean(s, candidates) }
