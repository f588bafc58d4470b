package normalizer

import (
	"fmt"
	"strings"

	"github.com/lapor/intake/normalizer/regiondata"
	"github.com/lapor/intake/record"
)

// compileRegions validates Routing.Regions: every key an official area code, every value an
// agency. A code that is not in the official list is refused, so a typo cannot leave a
// region silently unrouted.
func (r *Routing) compileRegions() []string {
	if len(r.Regions) == 0 {
		return nil
	}
	ix, err := loadRegionIndex()
	if err != nil {
		return []string{fmt.Sprintf("regions: the embedded area list does not load: %v", err)}
	}
	var errs []string
	for _, k := range sortedKeys(r.Regions) {
		code := strings.TrimSpace(k)
		agency := strings.TrimSpace(r.Regions[k])
		if regiondata.Level(code) == 0 {
			errs = append(errs, fmt.Sprintf("region %q: write an area code like \"32\", \"32.73\" or \"32.73.05\"", k))
			continue
		}
		if _, ok := ix.byCode[code]; !ok {
			errs = append(errs, fmt.Sprintf("region %q: no such area in the official list", k))
			continue
		}
		if !validAgency(agency) {
			errs = append(errs, fmt.Sprintf("region %q: agency %q: use letters, digits, '-', '_', '.' or '/'", k, agency))
			continue
		}
		r.regions[code] = agency
	}
	return errs
}

// matchRegion returns the agency of region's most specific code that has a rule.
func (r *Routing) matchRegion(region *record.Region) string {
	for code := region.Code(); code != ""; {
		if a, ok := r.regions[code]; ok {
			return a
		}
		i := strings.LastIndexByte(code, '.')
		if i < 0 {
			break
		}
		code = code[:i]
	}
	return ""
}
