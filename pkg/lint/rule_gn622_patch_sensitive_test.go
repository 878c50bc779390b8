package lint

import "testing"

func TestGN622PatchSensitive(t *testing.T) {
	runRuleCases(t, "GN622", []ruleCase{
		{name: "harmless", yaml: "patches:\n  - {stack: app, op: add, path: /Resources/Service/Properties/EnableExecuteCommand, value: true}\n"},
		{name: "ingress", yaml: "patches:\n  - stack: app\n    op: add\n    path: /Resources/ServiceSecurityGroup/Properties/SecurityGroupIngress/-\n    value: {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}\n",
			want: []at{{4, 11}}, msg: "SecurityGroupIngress of ServiceSecurityGroup"},
		{name: "deletion policy", yaml: "resources:\n  files: {type: s3}\npatches:\n  - {stack: data, op: replace, path: /Resources/FilesBucket/DeletionPolicy, value: Delete}\n",
			want: []at{{4, 38}}, msg: "DeletionPolicy of FilesBucket in the data stack"},
		{name: "moved from", yaml: "patches:\n  - {stack: app, op: move, from: /Resources/TaskRole/Properties/Policies, path: /Metadata}\n",
			want: []at{{2, 34}}, msg: "Policies of TaskRole"},
	})
}
