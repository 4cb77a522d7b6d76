package test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"strconv"
	"strings"
)

// evalMath evaluates one datapoint of a CloudWatch metric-math expression of
// the subset our alarms use: IF, FILL, comparisons, AND/OR and numbers. A
// missing datapoint is NaN and, as CloudWatch's metric math does, makes the
// result missing unless FILL replaces it ("FILL(m, value) fills the missing
// values of a metric": CloudWatch User Guide, Metric math syntax and functions).
func evalMath(expr string, vars map[string]float64) (float64, error) {
	goExpr := strings.NewReplacer(" AND ", " && ", " OR ", " || ").Replace(expr)
	node, err := parser.ParseExpr(goExpr)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", expr, err)
	}
	return evalNode(node, vars)
}

func evalNode(n ast.Expr, vars map[string]float64) (float64, error) {
	switch e := n.(type) {
	case *ast.ParenExpr:
		return evalNode(e.X, vars)
	case *ast.BasicLit:
		return strconv.ParseFloat(e.Value, 64)
	case *ast.Ident:
		v, ok := vars[e.Name]
		if !ok {
			return 0, fmt.Errorf("no metric %q in the scenario", e.Name)
		}
		return v, nil
	case *ast.CallExpr:
		args := make([]float64, len(e.Args))
		for i, a := range e.Args {
			v, err := evalNode(a, vars)
			if err != nil {
				return 0, err
			}
			args[i] = v
		}
		switch fn := e.Fun.(*ast.Ident).Name; {
		case fn == "FILL" && len(args) == 2:
			if math.IsNaN(args[0]) {
				return args[1], nil
			}
			return args[0], nil
		case fn == "IF" && len(args) == 3:
			switch {
			case math.IsNaN(args[0]):
				return math.NaN(), nil
			case args[0] != 0:
				return args[1], nil
			default:
				return args[2], nil
			}
		default:
			return 0, fmt.Errorf("function %s/%d not supported", fn, len(args))
		}
	case *ast.BinaryExpr:
		x, err := evalNode(e.X, vars)
		if err != nil {
			return 0, err
		}
		y, err := evalNode(e.Y, vars)
		if err != nil {
			return 0, err
		}
		if math.IsNaN(x) || math.IsNaN(y) {
			return math.NaN(), nil
		}
		truth := map[bool]float64{true: 1, false: 0}
		switch e.Op {
		case token.GTR:
			return truth[x > y], nil
		case token.GEQ:
			return truth[x >= y], nil
		case token.LSS:
			return truth[x < y], nil
		case token.LEQ:
			return truth[x <= y], nil
		case token.EQL:
			return truth[x == y], nil
		case token.NEQ:
			return truth[x != y], nil
		case token.LAND:
			return truth[x != 0 && y != 0], nil
		case token.LOR:
			return truth[x != 0 || y != 0], nil
		}
		return 0, fmt.Errorf("operator %s not supported", e.Op)
	}
	return 0, fmt.Errorf("expression %T not supported", n)
}

// alarmDatapoint evaluates a metric-math alarm's returned expression for one
// period, each metric given by its metric name (missing names are no data).
func alarmDatapoint(r Resource, byMetricName map[string]float64) (float64, error) {
	vars := map[string]float64{}
	list, _ := r.Props["Metrics"].([]any)
	for _, q := range list {
		if name := get(q, "MetricStat.Metric.MetricName"); name != nil {
			v, ok := byMetricName[str(name)]
			if !ok {
				v = math.NaN()
			}
			vars[str(get(q, "Id"))] = v
		}
	}
	return evalMath(expressionOf(r), vars)
}
