package naming

import "testing"

func TestArtifactsBucket(t *testing.T) {
	for _, region := range []string{"us-east-1", "ap-southeast-2", "us-gov-west-1", "cn-northwest-1"} {
		name := ArtifactsBucket("111122223333", region)
		if err := ValidateBucket(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := ArtifactsBucket("111122223333", "eu-west-1"); got != "gantry-artifacts-111122223333-eu-west-1" {
		t.Errorf("ArtifactsBucket = %q", got)
	}
}

func TestS3ObjectURL(t *testing.T) {
	key := TemplateKey("pay-dev-app", "ab12")
	if got, want := S3ObjectURL("b", "eu-west-1", key), "https://b.s3.eu-west-1.amazonaws.com/templates/pay-dev-app/ab12.json"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := S3ObjectURL("b", "cn-north-1", "k"), "https://b.s3.cn-north-1.amazonaws.com.cn/k"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
