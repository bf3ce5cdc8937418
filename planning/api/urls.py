from rest_framework.routers import SimpleRouter

from .views import ColumnViewSet, InitiativeViewSet, PlanViewSet, TaskProgressViewSet, TaskViewSet, UnitViewSet

router = SimpleRouter()
router.register("plans", PlanViewSet, basename="plan")
router.register("initiatives", InitiativeViewSet, basename="initiative")
router.register("columns", ColumnViewSet, basename="column")
router.register("tasks", TaskViewSet, basename="task")
router.register("units", UnitViewSet, basename="unit")
router.register("task-progress", TaskProgressViewSet, basename="task-progress")
urlpatterns = router.urls
