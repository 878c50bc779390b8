// Package codecheck holds tests of the code base's own shape: short
// functions, file names that say what they hold, and dependencies that
// point one way (see docs/testing.md). It has no code of its own.
package codecheck
