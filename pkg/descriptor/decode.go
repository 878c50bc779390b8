package descriptor

// Parse decodes src (named file in problems) into a Descriptor, applying
// defaults and stage overrides. It never panics; every defect found is
// returned as a problem, all of them in one pass.
func Parse(file string, src []byte) (*Descriptor, []Problem) {
	panic("TODO: being written")
}
