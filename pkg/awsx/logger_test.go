package awsx

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/smithy-go/logging"
)

func TestSDKLogLinesGoToSlog(t *testing.T) {
	var buf bytes.Buffer
	l := sdkLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Logf(logging.Warn, "Response has no supported checksum. Not validating response payload.")
	l.Logf(logging.Debug, "request %d", 7)
	out := buf.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "no supported checksum") || !strings.Contains(out, `level=DEBUG msg="aws sdk: request 7"`) {
		t.Errorf("log:\n%s", out)
	}
}
