package lint

import (
	"math/rand/v2"
	"testing"
)

// The generic detector's thresholds: random keys are caught, ordinary
// configuration values are not.
func TestCredentialThresholds(t *testing.T) {
	ordinary := []string{
		"MyApplicationName2024Release", "PaymentsServiceV2Production", "Kafka_Consumer_Group_Id_42",
		"SomeVeryLongCamelCaseIdentifier123", "com.example.payments.PaymentService",
		"550e8400-e29b-41d4-a716-446655440000", "3f2a9c1b7d4e5f60718293a4b5c6d7e8f9012345",
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"https://api.example.com/v1/payments", "arn:aws:sns:us-east-1:111122223333:alerts",
		"eu-west-1.payments.internal", "/var/lib/payments/data/2024/uploads", "Europe/Berlin",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "v1.24.3-alpine3.19-linux-amd64-build20240612",
		"-Xmx1024m -XX:+UseG1GC -XX:MaxGCPauseMillis=200", "${resources.db.host}:${resources.db.port}",
		"postgres://${resources.db.username}:${resources.db.password}@${resources.db.host}/app",
	}
	for _, v := range ordinary {
		if got := credential("SETTING", v); got != "" {
			t.Errorf("%q taken for %s", v, got)
		}
	}

	// Random base62 keys: at least 90% caught at 20 characters, 97% from 32.
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for _, c := range []struct {
		n    int
		rate float64
	}{{20, 0.90}, {24, 0.92}, {32, 0.97}, {40, 0.97}, {64, 0.99}} {
		caught := 0
		const trials = 2000
		for range trials {
			b := make([]byte, c.n)
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			if credential("SETTING", string(b)) != "" {
				caught++
			}
		}
		if r := float64(caught) / trials; r < c.rate {
			t.Errorf("length %d: caught %.1f%% of random keys, want at least %.0f%%", c.n, 100*r, 100*c.rate)
		}
	}
}

func TestShannon(t *testing.T) {
	for s, want := range map[string]float64{"": 0, "aaaa": 0, "ab": 1, "abcd": 2} {
		if got := shannon(s); got != want {
			t.Errorf("shannon(%q) = %v, want %v", s, got, want)
		}
	}
}
