package main

import (
	"sort"
	"strings"
)

// Report is the monthly cost at idle of every stage of a cloud assembly.
type Report struct {
	Region        string        `json:"region"`
	Currency      string        `json:"currency"`
	PriceSource   string        `json:"price_source"`
	PriceAsOf     string        `json:"price_as_of"`
	HoursPerMonth float64       `json:"hours_per_month"`
	Stages        []StageReport `json:"stages"`
	MonthlyUSD    float64       `json:"monthly_usd"`
	// Unpriced lists every line the price file could not price. They are left
	// out of the totals, so the totals are a floor while this is not empty.
	Unpriced []UnpricedItem `json:"unpriced"`
	// Projections are the usage projections per stage (--profile).
	Projections []Projection `json:"projections,omitempty"`
}

// StageReport holds one stage's stacks and the prices of what grows with use.
type StageReport struct {
	Name        string        `json:"name"`
	Stacks      []StackReport `json:"stacks"`
	MonthlyUSD  float64       `json:"monthly_usd"`
	UsagePrices []UsagePrice  `json:"usage_prices"`
}

// StackReport is one stack's fixed monthly cost.
type StackReport struct {
	Name       string     `json:"name"`
	Items      []LineItem `json:"items"`
	Notes      []Note     `json:"notes,omitempty"`
	MonthlyUSD float64    `json:"monthly_usd"`
}

// LineItem is one fixed monthly cost. Key is stable across synths of the same
// app, so two reports can be diffed line by line.
type LineItem struct {
	Key          string  `json:"key"`
	Category     string  `json:"category"`
	Resource     string  `json:"resource"`
	ResourceType string  `json:"resource_type"`
	Description  string  `json:"description"`
	Quantity     float64 `json:"quantity"`
	Unit         string  `json:"unit"`
	UnitPriceUSD float64 `json:"unit_price_usd"`
	MonthlyUSD   float64 `json:"monthly_usd"`
	Unpriced     bool    `json:"unpriced,omitempty"`
	Reason       string  `json:"reason,omitempty"`
}

// Note is a cost remark that has no fixed monthly amount (a risk to watch).
type Note struct {
	Resource string `json:"resource"`
	Text     string `json:"text"`
}

// UsagePrice is the unit price of something billed by use.
type UsagePrice struct {
	Item     string   `json:"item"`
	Unit     string   `json:"unit"`
	PriceUSD float64  `json:"price_usd"`
	Stacks   []string `json:"stacks"`
	Unpriced bool     `json:"unpriced,omitempty"`
}

// UnpricedItem points at a line the report could not price.
type UnpricedItem struct {
	Stage    string `json:"stage"`
	Stack    string `json:"stack"`
	Resource string `json:"resource"`
	Item     string `json:"item"`
	Reason   string `json:"reason"`
}

// finish sorts everything and computes the totals and the unpriced list.
func (r *Report) finish() {
	sort.Slice(r.Stages, func(i, j int) bool { return r.Stages[i].Name < r.Stages[j].Name })
	r.MonthlyUSD = 0
	r.Unpriced = nil
	for si := range r.Stages {
		stage := &r.Stages[si]
		sort.Slice(stage.Stacks, func(i, j int) bool { return stage.Stacks[i].Name < stage.Stacks[j].Name })
		sort.Slice(stage.UsagePrices, func(i, j int) bool { return stage.UsagePrices[i].Item < stage.UsagePrices[j].Item })
		stage.MonthlyUSD = 0
		for ki := range stage.Stacks {
			stack := &stage.Stacks[ki]
			sort.SliceStable(stack.Items, func(i, j int) bool { return stack.Items[i].Key < stack.Items[j].Key })
			sort.SliceStable(stack.Notes, func(i, j int) bool {
				if stack.Notes[i].Resource != stack.Notes[j].Resource {
					return stack.Notes[i].Resource < stack.Notes[j].Resource
				}
				return stack.Notes[i].Text < stack.Notes[j].Text
			})
			stack.MonthlyUSD = 0
			for _, it := range stack.Items {
				if it.Unpriced {
					r.Unpriced = append(r.Unpriced, UnpricedItem{Stage: stage.Name, Stack: stack.Name, Resource: it.Resource, Item: it.Description, Reason: it.Reason})
					continue
				}
				stack.MonthlyUSD += it.MonthlyUSD
			}
			stage.MonthlyUSD += stack.MonthlyUSD
		}
		for _, u := range stage.UsagePrices {
			if u.Unpriced {
				r.Unpriced = append(r.Unpriced, UnpricedItem{Stage: stage.Name, Stack: strings.Join(u.Stacks, ","), Item: u.Item, Reason: "no usage price in the price file"})
			}
		}
		r.MonthlyUSD += stage.MonthlyUSD
	}
}
