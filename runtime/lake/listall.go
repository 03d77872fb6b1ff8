package lake

import "context"

// ListAll returns every object under prefix in lexical key order, paging
// through b.List. It fails rather than loop when a backend returns a page
// that does not move forward.
func ListAll(ctx context.Context, b Bucket, prefix string) ([]ObjectInfo, error) {
	var all []ObjectInfo
	for o, err := range listFrom(ctx, b, prefix, "") {
		if err != nil {
			return nil, err
		}
		all = append(all, o)
	}
	return all, nil
}
