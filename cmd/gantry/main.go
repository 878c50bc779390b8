package main
import (
 _ "github.com/awslabs/goformation/v7/cloudformation"
 _ "github.com/spf13/cobra"
 _ "gopkg.in/yaml.v3"
 _ "github.com/invopop/jsonschema"
 _ "golang.org/x/term"
)
func main(){}
