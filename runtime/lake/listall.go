package lake

import (
	"context"
	"fmt"
)

// ListAll returns every object under prefix in lexical key order, paging
// through b.List. It fails rather than loop when a backend returns a page
// that does not move forward.
func ListAll(ctx context.Context, b Bucket, prefix string) ([]ObjectInfo, error) {
	var all []ObjectInfo
	opts := ListOptions{}
	for {
		page, err := b.List(ctx, prefix, opts)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Objects {
			if opts.StartAfter != "" && o.Key <= opts.StartAfter {
				return nil, fmt.Errorf("lake: list %q: key %q is not after %q: listing out of order", prefix, o.Key, opts.StartAfter)
			}
			opts.StartAfter = o.Key
		}
		all = append(all, page.Objects...)
		if !page.More {
			return all, nil
		}
		if len(page.Objects) == 0 {
			return nil, fmt.Errorf("lake: list %q: empty page marked as having more", prefix)
		}
	}
}
