package recipes

import (
	"github.com/herd-io/herd/framework"
	"github.com/herd-io/herd/recipes/discovery"
)

// NewServiceDiscovery returns Curator's ServiceDiscovery under basePath,
// with Curator's JSON layout at <basePath>/<name>/<id> (see package
// discovery).
func NewServiceDiscovery(c *framework.Client, basePath string, opts ...discovery.Option) (*discovery.Discovery, error) {
	return discovery.New(c, basePath, opts...)
}
