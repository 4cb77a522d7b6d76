package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

func usd(v float64) string {
	if v < 0 {
		return fmt.Sprintf("-$%.2f", -v)
	}
	return fmt.Sprintf("$%.2f", v)
}

func signedUSD(v float64) string {
	if v >= 0.005 {
		return "+" + usd(v)
	}
	if v > -0.005 {
		return "$0.00"
	}
	return usd(v)
}

// unitPrice shows a unit price without float noise (0.2367, not
// 0.23670000000000002): six decimals, more for tiny prices (Lambda GB-s).
func unitPrice(v float64) string {
	scale := 1e6
	if math.Abs(v) < 0.001 {
		scale = 1e10
	}
	return "$" + strconv.FormatFloat(math.Round(v*scale)/scale, 'f', -1, 64)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// writeTable prints the report for people: per stage and stack, the fixed
// monthly lines, then the prices of what grows with use.
func writeTable(w io.Writer, r Report) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "Fixed monthly cost at idle, %s, %g h/month, prices %s (%s)\n", r.Region, r.HoursPerMonth, r.PriceAsOf, r.PriceSource)
	writeUnpricedWarning(b, r.Unpriced)
	for _, stage := range r.Stages {
		fmt.Fprintf(b, "\n=== stage %s: %s/month\n", stage.Name, usd(stage.MonthlyUSD))
		for _, stack := range stage.Stacks {
			fmt.Fprintf(b, "\n--- %s: %s/month\n", stack.Name, usd(stack.MonthlyUSD))
			tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  ITEM\tRESOURCE\tQTY\tUNIT\tUNIT PRICE\tMONTHLY")
			for _, it := range stack.Items {
				if it.Unpriced {
					fmt.Fprintf(tw, "  %s\t%s\t\t\t\tUNPRICED: %s\n", it.Description, it.Resource, it.Reason)
					continue
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", it.Description, it.Resource, fmtQty(it.Quantity), it.Unit, unitPrice(it.UnitPriceUSD), usd(it.MonthlyUSD))
			}
			if err := tw.Flush(); err != nil {
				return fmt.Errorf("write table: %w", err)
			}
			for _, n := range stack.Notes {
				fmt.Fprintf(b, "  note [%s]: %s\n", n.Resource, n.Text)
			}
		}
		if len(stage.UsagePrices) > 0 {
			fmt.Fprintf(b, "\n--- stage %s: prices of what grows with use (not in the totals)\n", stage.Name)
			tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
			for _, u := range stage.UsagePrices {
				price := unitPrice(u.PriceUSD) + " per " + u.Unit
				if u.Unpriced {
					price = "UNPRICED (" + u.Unit + ")"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", u.Item, price, strings.Join(u.Stacks, ", "))
			}
			if err := tw.Flush(); err != nil {
				return fmt.Errorf("write table: %w", err)
			}
		}
	}
	fmt.Fprintf(b, "\nTOTAL fixed monthly cost, all stages: %s\n", usd(r.MonthlyUSD))
	writeUnpricedList(b, r.Unpriced)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return writeProjections(w, r)
}

func writeUnpricedWarning(b *strings.Builder, u []UnpricedItem) {
	if len(u) > 0 {
		fmt.Fprintf(b, "WARNING: %d UNPRICED %s left out of the totals: the totals are a floor. See the list at the end.\n", len(u), plural(len(u), "item"))
	}
}

func writeUnpricedList(b *strings.Builder, u []UnpricedItem) {
	if len(u) == 0 {
		return
	}
	fmt.Fprintf(b, "\nUNPRICED (%d, not in any total; add them to the price file):\n", len(u))
	for _, x := range u {
		res := ""
		if x.Resource != "" {
			res = " [" + x.Resource + "]"
		}
		fmt.Fprintf(b, "  %s / %s%s: %s: %s\n", x.Stage, x.Stack, res, x.Item, x.Reason)
	}
}
