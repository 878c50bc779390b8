package version

import (
	"context"
	"testing"

	"github.com/gantryhq/gantry/pkg/cmd/cmdutil"
)

func TestVersionPrintsStampedVersion(t *testing.T) {
	for _, tt := range []struct{ stamped, want string }{
		{"v1.2.3", "gantry version v1.2.3\n"},
		{"", "gantry version dev\n"},
	} {
		f, out, errOut := cmdutil.TestFactory(tt.stamped)
		code, err := cmdutil.Execute(context.Background(), NewCmd(f), nil)
		if code != 0 || err != nil {
			t.Fatalf("exit %d, err %v", code, err)
		}
		if out.String() != tt.want {
			t.Errorf("stdout = %q, want %q", out, tt.want)
		}
		if errOut.Len() != 0 {
			t.Errorf("stderr = %q, want nothing", errOut)
		}
	}
}

func TestVersionRefusesArguments(t *testing.T) {
	f, _, _ := cmdutil.TestFactory("v1")
	code, err := cmdutil.Execute(context.Background(), NewCmd(f), []string{"extra"})
	if code != 2 || err == nil {
		t.Errorf("exit %d, err %v; want 2", code, err)
	}
}
