"""Master data from the hub, applied in version order.

Products and barcodes (`products`, `catch_up`), the other down messages: staff, config,
pricing, flags, risk (`down_messages`, bodies in `wire`), their stored bodies
(`config_docs`), refused pricing policies (`policy_rejections`) and branding (`brand`).
"""
