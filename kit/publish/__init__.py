"""What the client reads: labels and formats, charts, the methodology page and the Quarto site."""
