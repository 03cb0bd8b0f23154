"""CloudWatch metric and composite alarms: definitions, evaluation, notifications, history."""
