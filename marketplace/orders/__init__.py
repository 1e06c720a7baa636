"""Orders: one per shop and checkout, from placing to delivery or cancellation."""
