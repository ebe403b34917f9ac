"""The golden case corpus (JSON files), shipped inside the package as exactrelu.cases."""
