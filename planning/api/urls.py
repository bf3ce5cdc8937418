from rest_framework.routers import SimpleRouter

from .notifications import NotificationViewSet
from .views import ColumnViewSet, InitiativeViewSet, PlanViewSet, TaskProgressViewSet, TaskViewSet, UnitViewSet

router = SimpleRouter()
router.register("plans", PlanViewSet, basename="plan")
router.register("initiatives", InitiativeViewSet, basename="initiative")
router.register("columns", ColumnViewSet, basename="column")
router.register("tasks", TaskViewSet, basename="task")
router.register("units", UnitViewSet, basename="unit")
router.register("task-progress", TaskProgressViewSet, basename="task-progress")
router.register("notifications", NotificationViewSet, basename="notification")
urlpatterns = router.urls
