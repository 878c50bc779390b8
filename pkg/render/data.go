package render

import (
	"fmt"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/ec2"

	"github.com/gantryhq/gantry/pkg/descriptor"
	"github.com/gantryhq/gantry/pkg/kind"
	"github.com/gantryhq/gantry/pkg/kinds"
	"github.com/gantryhq/gantry/pkg/naming"
)

// Fixed logical IDs of the data stack.
const (
	idClientSG = "ClientSecurityGroup"
	idStoreSG  = "StoreSecurityGroup"
	// OutputClientSG is the data stack output holding the security group
	// that clients of the stores join.
	OutputClientSG = "ClientSecurityGroupId"
)

// OutputName is the data stack output behind ${resources.<name>.<output>}
// for resource r, or "" when its kind has no such output. Secret outputs
// (password, auth) map to the ARN of the secret that holds them.
func OutputName(name string, r *descriptor.Resource, output string) string {
	o, ok := r.Output(output)
	stem := logicalStem(name)
	if !ok || stem == "" {
		return ""
	}
	return stem + o.ID
}

// secretKey is the JSON key, inside the secret, of a secret output.
func secretKey(output string) string { return output }

func (c *ctx) dataStack() (Stack, error) {
	name := naming.Stack(c.service(), c.stageName(), naming.Data)
	b := newStackBuilder(fmt.Sprintf("gantry data stack of %s in %s: the service's data stores and the outputs its app stack imports", c.service(), c.stageName()))
	f := b.fns
	if c.network() {
		c.storeNetwork(b)
	}
	ds := &dataStack{kindFns: kindFns{f}, c: c, b: b, once: map[string]bool{}, inbound: c.inbound(f)}
	for _, rn := range c.resources {
		ds.self = c.spec.Resources[rn].View(rn)
		ds.self.Settings.Render(ds)
	}
	ds.keys()
	return b.stack(name, naming.Data, nil)
}

// storeNetwork adds the security groups of the stores reached through the
// VPC: the clients' (the app tasks join it) and the stores', which lets the
// clients in on each such kind's port.
func (c *ctx) storeNetwork(b *stackBuilder) {
	f := b.fns
	tg := c.tags(f, false)
	b.param(paramVpc, platformParam(paramVpc))
	b.param(paramSubnets, platformParam(paramSubnets))
	b.resource(idClientSG, &ec2.SecurityGroup{
		GroupDescription: fmt.Sprintf("Clients of the %s %s data stores: the app tasks join it", c.service(), c.stageName()),
		VpcId:            ptr(f.ref(paramVpc)),
		Tags:             tg,
	})
	var ingress []ec2.SecurityGroup_Ingress
	for _, k := range kinds.All() {
		if k.Port() != 0 && c.has(k.Name()) {
			ingress = append(ingress, ec2.SecurityGroup_Ingress{
				Description:           ptr(k.Title() + " from the service tasks"),
				IpProtocol:            "tcp",
				FromPort:              ptr(k.Port()),
				ToPort:                ptr(k.Port()),
				SourceSecurityGroupId: ptr(f.getAtt(idClientSG, "GroupId")),
			})
		}
	}
	b.resource(idStoreSG, &ec2.SecurityGroup{
		GroupDescription:     fmt.Sprintf("The %s %s data stores; reachable only from the client security group", c.service(), c.stageName()),
		VpcId:                ptr(f.ref(paramVpc)),
		SecurityGroupIngress: ingress,
		Tags:                 tg,
	})
	b.output(OutputClientSG, c.export(f.getAtt(idClientSG, "GroupId"), OutputClientSG, "Security group the app's tasks join to reach the stores"))
}

// inbound asks every resource that sends to others (kind.Sender) where it
// sends, so that the targets can let it in.
func (c *ctx) inbound(f fns) map[string][]kind.Inbound {
	out := map[string][]kind.Inbound{}
	for _, rn := range c.resources {
		self := c.spec.Resources[rn].View(rn)
		if s, ok := self.Settings.(kind.Sender); ok {
			for _, send := range s.Sends(kindFns{f}, c.service(), c.stageName(), self) {
				out[send.To] = append(out[send.To], send.Inbound)
			}
		}
	}
	return out
}

func (c *ctx) export(value, output, desc string) cloudformation.Output {
	return cloudformation.Output{Value: value, Description: &desc, Export: &cloudformation.Export{Name: c.exportName(output)}}
}
