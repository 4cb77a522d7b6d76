package observability

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbudgets"
	"github.com/aws/jsii-runtime-go"
)

// budgetNotifications are the thresholds (percent of the monthly budget) that
// notify the alerts topic and the alert email.
var budgetNotifications = []struct {
	kind    string // ACTUAL | FORECASTED
	percent float64
}{{"ACTUAL", 80}, {"ACTUAL", 100}, {"FORECASTED", 100}}

// budget is the stage's monthly cost budget. A budget covers the spend of
// the account it is in, a member account's own included, so a stage with an
// account of its own needs no filter. A stage sharing its account is told
// apart by the Stage cost-allocation tag every resource carries; that tag must
// be activated once per payer account (Billing > Cost allocation tags) before
// the filter matches anything, which synthesis warns about.
func (o *obs) budget() awsbudgets.CfnBudget {
	cfg := o.p.Cfg
	var filters any
	if len(cfg.SharesAccountWith) > 0 {
		filters = map[string]any{"TagKeyValue": []any{"user:Stage$" + cfg.Stage}}
	}
	subscribers := []any{&awsbudgets.CfnBudget_SubscriberProperty{
		SubscriptionType: jsii.String("SNS"), Address: o.p.Net.AlertsTopic.TopicArn(),
	}}
	if cfg.AlertEmail != "" {
		subscribers = append(subscribers, &awsbudgets.CfnBudget_SubscriberProperty{
			SubscriptionType: jsii.String("EMAIL"), Address: jsii.String(cfg.AlertEmail),
		})
	}
	var notifications []any
	for _, n := range budgetNotifications {
		notifications = append(notifications, &awsbudgets.CfnBudget_NotificationWithSubscribersProperty{
			Notification: &awsbudgets.CfnBudget_NotificationProperty{
				NotificationType:   jsii.String(n.kind),
				ComparisonOperator: jsii.String("GREATER_THAN"),
				Threshold:          jsii.Number(n.percent),
				ThresholdType:      jsii.String("PERCENTAGE"),
			},
			Subscribers: subscribers,
		})
	}
	return awsbudgets.NewCfnBudget(o.stack, jsii.String("MonthlyBudget"), &awsbudgets.CfnBudgetProps{
		Budget: &awsbudgets.CfnBudget_BudgetDataProperty{
			BudgetName: jsii.String(o.p.Names.Budget()),
			BudgetType: jsii.String("COST"),
			TimeUnit:   jsii.String("MONTHLY"),
			BudgetLimit: &awsbudgets.CfnBudget_SpendProperty{
				Amount: jsii.Number(float64(cfg.MonthlyBudgetUsd)),
				Unit:   jsii.String("USD"),
			},
			CostFilters: filters,
		},
		NotificationsWithSubscribers: notifications,
	})
}
