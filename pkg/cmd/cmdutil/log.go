package cmdutil

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// LogOptions are the global logging flags. gantry's structured logs (every
// decision, stack operation and state write) go to a file, or to stderr
// only when asked ("-"), so progress output and --output json stay clean.
type LogOptions struct {
	File  string
	Level string

	closer io.Closer
}

// AddLogFlags registers the logging flags on fs (the root's persistent
// flags). GANTRY_LOG_FILE and GANTRY_LOG_LEVEL are their defaults, so a CI
// job can turn logs on for every step at once.
func AddLogFlags(fs *pflag.FlagSet, o *LogOptions) {
	fs.StringVar(&o.File, "log-file", os.Getenv("GANTRY_LOG_FILE"), "append JSON log lines to this file (\"-\" is stderr); GANTRY_LOG_FILE works too")
	level := os.Getenv("GANTRY_LOG_LEVEL")
	if level == "" {
		level = "info"
	}
	fs.StringVar(&o.Level, "log-level", level, "log level: debug, info, warn or error; GANTRY_LOG_LEVEL works too")
}

// Open makes the logger the options ask for; nil when no file is set.
// Close releases the file.
func (o *LogOptions) Open(stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.TrimSpace(o.Level))); err != nil {
		return nil, UsageErrorf("--log-level %q: want debug, info, warn or error", o.Level)
	}
	var w io.Writer
	switch o.File {
	case "":
		return nil, nil
	case "-":
		w = stderr
	default:
		f, err := os.OpenFile(o.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, InputError(fmt.Errorf("opening the log file: %w", err))
		}
		o.closer, w = f, f
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// Close closes the log file, if one was opened.
func (o *LogOptions) Close() error {
	if o.closer == nil {
		return nil
	}
	err := o.closer.Close()
	o.closer = nil
	return err
}
