"""The ground floor: exact numbers, algebraic numbers, norms, activations, the network
model, domains, chain-rule conventions and result types. Imports nothing else of exactrelu."""
