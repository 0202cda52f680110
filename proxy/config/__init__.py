"""The one reader of configuration: settings, the policy tables, the typosquat corpus."""
