// Package rollout holds the types that every step of a rollout shares: the
// engine (pkg/deploy) produces them, the flag gates (pkg/gate) answer in
// them and the views (pkg/progress) show them. It is a leaf: it imports
// nothing of gantry's, so that none of those packages needs another.
//
// Region statuses and stack actions here are the ones the design's deploy
// JSON names; the views never define their own.
package rollout
