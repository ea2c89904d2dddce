"""imgsdk's own adapters, one module per provider, installed as ``imgsdk.adapters``.

They are found through the ``imgsdk.adapters`` entry-point group like any third-party adapter; the core
never imports one by name.
"""
