import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmdropmae module so that its classes are registered.

    Args:
        init_default_scope (bool): Also make ``mmdropmae`` the current default
            scope, so that registries look up our classes first.
    """
    import mmdropmae.datasets  # noqa: F401
    import mmdropmae.engine  # noqa: F401
    import mmdropmae.evaluation  # noqa: F401
    import mmdropmae.models  # noqa: F401
    import mmdropmae.visualization  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('mmdropmae'):
        DefaultScope.get_instance('mmdropmae', scope_name='mmdropmae')
    elif current.scope_name != 'mmdropmae':
        warnings.warn(f'The current default scope "{current.scope_name}" is not '
                      '"mmdropmae"; creating a new "mmdropmae" scope.')
        new_name = f'mmdropmae-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_name, scope_name='mmdropmae')
