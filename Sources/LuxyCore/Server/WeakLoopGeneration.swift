/// A generation as `LoopContext` remembers it, without keeping it. Only touched on its loop.
struct WeakLoopGeneration {
    weak var generation: LoopGeneration?
}
